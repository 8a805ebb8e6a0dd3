"""The alert rules and the Grafana dashboard in deploy/observability/ parse as PromQL and name only metrics that
our processes define (laowu.metrics, the API's middleware, prometheus_client's process collector); and no metric
carries a label that could hold a person."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.metrics_core import Metric

import api.middleware  # noqa: F401  (registers the HTTP metrics)
from laowu import metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "observability"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",), "summary": ("_sum", "_count"),
            "info": ("_info",)}
# Label names that may appear on our metrics; a new one is a decision (could it carry a person? then it must not).
ALLOWED_LABELS = {"topic", "type", "outcome", "group", "partition", "kind", "method", "route", "status", "le"}


def _families() -> list[Metric]:
    return list(REGISTRY.collect())


def defined_names() -> set[str]:
    names = set()
    for family in _families():
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
    return names


def selectors(node: Any) -> Iterator[str]:
    """Every metric name a PromQL expression selects, walking the parser's tree."""
    if type(node).__name__ in ("VectorSelector", "MatrixSelector"):
        name = getattr(node, "name", None) or getattr(getattr(node, "vector_selector", None), "name", None)
        if name:
            yield name
    for attr in ("lhs", "rhs", "expr", "args", "param", "vector_selector", "matrix_selector"):
        child = getattr(node, attr, None)
        if child is None:
            continue
        for c in child if isinstance(child, list) else [child]:
            if type(c).__module__.startswith("promql_parser") or type(c).__name__.endswith(("Expr", "Selector")):
                yield from selectors(c)


def rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load((DEPLOY / "alert-rules.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    doc = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    return [t["expr"] for panel in doc["panels"] for t in panel["targets"]]


def test_the_walker_finds_names_inside_functions_aggregations_and_binary_operators() -> None:
    expr = promql_parser.parse('histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m]))) > 1 and b > 2 or time() - c')
    assert set(selectors(expr)) == {"a_bucket", "b", "c"}


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r["alert"])
def test_each_alert_rule_parses_and_names_defined_metrics(rule: dict[str, Any]) -> None:
    names = set(selectors(promql_parser.parse(rule["expr"])))
    assert names, rule["expr"]
    assert names <= defined_names(), f"{rule['alert']} names undefined metrics: {names - defined_names()}"
    assert rule["labels"]["severity"] in {"warning", "critical"}
    assert rule["annotations"]["summary"]


def test_the_issue_asks_for_these_alerts() -> None:
    exprs = {r["alert"]: r["expr"] for r in rules()}
    wanted = {"laowu_consumer_lag": "LaowuConsumerLagGrowing", "laowu_dead_letters_total": "LaowuDeadLetters",
              "laowu_outbox_oldest_age_seconds": "LaowuOutboxStale",
              "laowu_ledger_freshness_seconds_bucket": "LaowuFreshnessSlow",
              "process_start_time_seconds": "LaowuProcessRestarting"}
    for metric, alert in wanted.items():
        assert metric in set(selectors(promql_parser.parse(exprs[alert])))


@pytest.mark.parametrize("expr", dashboard_exprs())
def test_each_dashboard_query_parses_and_names_defined_metrics(expr: str) -> None:
    names = set(selectors(promql_parser.parse(expr)))
    assert names and names <= defined_names(), names - defined_names()


def test_every_metric_of_ours_is_on_the_dashboard() -> None:
    shown = {n for e in dashboard_exprs() for n in selectors(promql_parser.parse(e))}
    ours = {f.name for f in _families() if f.name.startswith("laowu_")}
    missing = {name for name in ours if not any(s.startswith(name) for s in shown)}
    assert not missing


def test_no_metric_of_ours_has_a_label_that_could_hold_a_person() -> None:
    for value in vars(metrics).values():
        labels = getattr(value, "_labelnames", None)
        if labels is not None:
            assert set(labels) <= ALLOWED_LABELS, (value, labels)


def test_ledger_outcomes_are_a_receipts_statuses_and_the_deferral() -> None:
    """``applied``/``rejected`` as GET /v1/events/{id} says them; ``deferred`` is its ``accepted`` while the event
    waits for what it names."""
    from schemas.api import Receipt

    statuses = set(Receipt.model_fields["status"].annotation.__args__)  # type: ignore[union-attr]
    assert set(metrics.OUTCOMES) == (statuses - {"accepted"}) | {"deferred"}
