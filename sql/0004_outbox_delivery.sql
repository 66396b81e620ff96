-- Delivering the outbox: leases for claiming rows safely from several workers, permanent
-- failures kept visible for admins, and reminders created exactly once per appointment time.

alter table outbox add column claimed_until timestamptz;
alter table outbox add column failed_at timestamptz;
-- The appointment start a reminder is about: a rescheduled appointment gets a new reminder.
alter table outbox add column reminder_for timestamptz;

create unique index outbox_one_reminder on outbox (appointment_id, reminder_for)
    where kind = 'reminder';

drop index outbox_unsent_idx;
create index outbox_due_idx on outbox (not_before, id) where sent_at is null and failed_at is null;

-- Reminder candidates are found by start time across all locations.
create index appointment_booked_start_idx on appointment (starts_at) where status = 'booked';
