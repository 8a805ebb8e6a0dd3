-- The reviewer role (评审专家, issue 21): experts sign in with accounts (and machines may hold its keys) to score
-- brand applications; laowu.auth.ROLES and schemas.common.Role name it too.
ALTER TABLE accounts DROP CONSTRAINT accounts_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check
    CHECK (role IN ('workstation', 'employer', 'bureau', 'admin', 'reviewer'));
ALTER TABLE credentials DROP CONSTRAINT credentials_role_check;
ALTER TABLE credentials ADD CONSTRAINT credentials_role_check
    CHECK (role IN ('workstation', 'employer', 'bureau', 'admin', 'reviewer'));
