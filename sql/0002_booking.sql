-- Citizen booking: tokens derivable by the server only, per-email limits, holds, reminders.

-- Manage and confirmation tokens are HMACs of (code, salt) under the server's secret key:
-- the database keeps only their SHA-256 and the salt, and the worker can still put the
-- links into emails without anyone storing a token in clear.
alter table appointment add column token_salt bytea not null default gen_random_uuid()::text::bytea;
-- The service set as sorted service ids ('3,7'), for the per-email limit per service set.
alter table appointment add column service_key text not null default '';
alter table appointment add column booked_by text not null default 'citizen'
    check (booked_by in ('citizen', 'staff'));
create index appointment_email_active_idx on appointment (lower(email), service_key)
    where status in ('pending', 'booked');

-- A hold occupies its units in slot.booked like an appointment until it expires.
alter table hold add column services bigint[] not null default '{}';

-- Unsent reminders are looked up per appointment when it moves or is cancelled.
create index outbox_appointment_idx on outbox (appointment_id, kind) where sent_at is null;
