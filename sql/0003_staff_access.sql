-- Staff and device access: sign-in state of staff users, personal API tokens, SSO identities,
-- and the indexes the admin views of devices and the audit log read by.

-- Emails are compared as typed in any case; the application stores them lower-case.
alter table staff_user add constraint staff_user_email_lower check (email = lower(email));
alter table staff_user add constraint staff_user_email_check
    check (length(email) between 3 and 254);
-- A session remembers the version it was made under: resetting the password, deactivating the
-- account or changing its role bumps it, and every older session stops working at once.
alter table staff_user add column session_version integer not null default 0;
-- The "sub" claim at the configured OpenID Connect issuer, for users who sign in by SSO.
alter table staff_user add column oidc_subject text unique;
create index staff_location_location_idx on staff_location (location_id);

-- Personal API tokens (Authorization: Bearer); only the SHA-256 of the token is kept.
create table api_token (
    id            bigint generated always as identity primary key,
    staff_user_id bigint not null references staff_user on delete cascade,
    name          text not null check (length(name) between 1 and 100),
    token_hash    bytea not null unique,
    created_at    timestamptz not null default now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
create index api_token_staff_user_idx on api_token (staff_user_id);

create index device_location_idx on device (location_id, id);

-- A failed login has no authenticated actor.
alter table audit_log drop constraint audit_log_actor_kind_check;
alter table audit_log add constraint audit_log_actor_kind_check
    check (actor_kind in ('staff', 'device', 'system', 'anonymous'));
-- The admin view pages newest first by id and filters by location, actor, object or action.
create index audit_log_location_idx on audit_log (location_id, id);
create index audit_log_actor_idx on audit_log (actor_kind, actor_id, id);
create index audit_log_object_idx on audit_log (object_kind, object_id, id);
create index audit_log_action_idx on audit_log (action, id);
