"""Kafka → PostgreSQL sinks (plain aiokafka, batched): decode → domain → store, one transaction with offsets."""
