-- Brand dynamic management (动态管理, issue 21): applications for entry or promotion with their expert reviews,
-- yearly re-checks, complaints and typical persons, as one document per brand (only the brand's own events, in
-- order on its partition, change it; laowu.domain.brand_review decides them).
ALTER TABLE brands ADD COLUMN management jsonb NOT NULL DEFAULT '{}';
