-- The in-office queue: who sits at which desk, how a ticket came and whom to tell when it is
-- nearly its turn, the numbered call events display boards follow, call-ahead mails.

-- Choosing a desk takes it over; a staff member sits at one desk at a time.
alter table desk add column staff_user_id bigint unique references staff_user on delete set null;
alter table desk add column staffed_at timestamptz;
create index desk_service_service_idx on desk_service (service_id);

alter table ticket add column channel text not null default 'kiosk'
    check (channel in ('kiosk', 'phone', 'check_in', 'staff'));
-- Call-ahead: an address to write to once the ticket is notify_places places or about
-- notify_minutes minutes from its turn. Cleared when the ticket ends (invariant 7).
alter table ticket add column email text check (length(email) <= 254);
alter table ticket add column language text not null default 'de' check (language in ('de', 'en'));
alter table ticket add column notify_places integer check (notify_places between 1 and 50);
alter table ticket add column notify_minutes integer check (notify_minutes between 1 and 240);
-- An appointment checks in once.
create unique index ticket_one_per_appointment on ticket (appointment_id)
    where appointment_id is not null;
-- Open tickets by day: the desk's queue view and the closing job.
create index ticket_open_idx on ticket (location_id, day)
    where status in ('waiting', 'called', 'serving');

-- One row per location; its lock is held by every transaction that writes a call event, so
-- the events of a location are numbered 1, 2, 3 ... in commit order, without gaps.
create table queue_state (
    location_id   bigint primary key references location on delete cascade,
    last_event_id bigint not null default 0
);

create table call_event (
    location_id  bigint not null references location on delete cascade,
    id           bigint not null,
    kind         text not null check (kind in ('call', 'recall')),
    ticket_id    bigint not null references ticket on delete cascade,
    display_code text not null,
    desk_id      bigint not null references desk on delete cascade,
    -- As called out: renaming the desk later does not rewrite what the board showed.
    desk_name    text not null,
    at           timestamptz not null,
    primary key (location_id, id)
);
create index call_event_at_idx on call_event (at);

-- Call-ahead mails are about a ticket, not an appointment; each ticket gets at most one.
alter table outbox add column ticket_id bigint references ticket on delete cascade;
alter table outbox drop constraint outbox_check;
alter table outbox add constraint outbox_subject_check
    check (num_nonnulls(appointment_id, waitlist_entry_id, ticket_id) >= 1);
alter table outbox drop constraint outbox_kind_check;
alter table outbox add constraint outbox_kind_check check (kind in ('confirmation_request',
    'confirmation', 'reschedule', 'cancellation', 'reminder', 'waitlist_offer',
    'waitlist_confirmation', 'call_ahead'));
create unique index outbox_one_call_ahead on outbox (ticket_id) where kind = 'call_ahead';
