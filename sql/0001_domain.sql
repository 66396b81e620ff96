-- The domain of ../shared/DESIGN.md as far as it can be foreseen; later issues add migrations.
-- All times are timestamptz (UTC inside); local wall time appears only in opening rules.

create table location (
    id                      bigint generated always as identity primary key,
    slug                    text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name_de                 text not null check (length(name_de) between 1 and 200),
    name_en                 text not null check (length(name_en) between 1 and 200),
    street                  text not null default '',
    postal_code             text not null default '',
    city                    text not null default '',
    phone                   text not null default '',
    email                   text not null default '',
    time_zone               text not null default 'Europe/Berlin',
    grid_minutes            integer not null default 10 check (grid_minutes between 5 and 120),
    horizon_days            integer not null default 60 check (horizon_days between 1 and 366),
    min_lead_minutes        integer not null default 60 check (min_lead_minutes >= 0),
    cancel_deadline_minutes integer not null default 1440 check (cancel_deadline_minutes >= 0),
    requires_confirmation   boolean not null default false,
    reminder_minutes        integer not null default 1440 check (reminder_minutes >= 0),
    allocation_mode         text not null default 'fcfs' check (allocation_mode in ('fcfs', 'lottery')),
    poster_secret           text not null default replace(gen_random_uuid()::text, '-', ''),
    active                  boolean not null default true,
    created_at              timestamptz not null default now()
);

create table service (
    id               bigint generated always as identity primary key,
    slug             text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name_de          text not null check (length(name_de) between 1 and 200),
    name_en          text not null check (length(name_en) between 1 and 200),
    description_de   text not null default '',
    description_en   text not null default '',
    documents_de     text[] not null default '{}',
    documents_en     text[] not null default '{}',
    duration_minutes integer not null check (duration_minutes between 1 and 480),
    leika_id         text,
    queue_prefix     text not null default 'A' check (queue_prefix ~ '^[A-Z]$'),
    active           boolean not null default true,
    created_at       timestamptz not null default now()
);

-- Which location offers which service, with its own duration where it differs.
create table location_service (
    location_id      bigint not null references location on delete cascade,
    service_id       bigint not null references service on delete cascade,
    duration_minutes integer check (duration_minutes between 1 and 480),
    bookable_online  boolean not null default true,
    primary key (location_id, service_id)
);
create index location_service_service_idx on location_service (service_id);

-- Weekday windows in the location's local wall time; weekday is ISO (1 = Monday).
create table opening_rule (
    id          bigint generated always as identity primary key,
    location_id bigint not null references location on delete cascade,
    weekday     smallint not null check (weekday between 1 and 7),
    opens_at    time not null,
    closes_at   time not null,
    desks       integer not null check (desks between 0 and 500),
    valid_from  date not null default '2000-01-01',
    valid_until date,
    check (closes_at > opens_at),
    check (valid_until is null or valid_until >= valid_from)
);
create index opening_rule_location_idx on opening_rule (location_id, weekday);

create table closure (
    id          bigint generated always as identity primary key,
    location_id bigint not null references location on delete cascade,
    first_day   date not null,
    last_day    date not null,
    reason_de   text not null default '',
    reason_en   text not null default '',
    check (last_day >= first_day)
);
create index closure_location_idx on closure (location_id, first_day);

-- One row per location and grid unit: invariant 1 is this check, enforced by the database.
-- window_ends_at is the end of the opening window the unit lies in: an appointment never
-- runs past it (over a lunch break, say). rule_capacity is what the opening rules ask for;
-- capacity stays at or above booked when rules shrink, and the difference is a conflict
-- for admins until the affected appointments are moved or cancelled.
create table slot (
    location_id    bigint not null references location on delete cascade,
    starts_at      timestamptz not null,
    window_ends_at timestamptz not null,
    rule_capacity  integer not null check (rule_capacity >= 0),
    capacity       integer not null check (capacity >= 0),
    booked         integer not null default 0 check (booked >= 0),
    primary key (location_id, starts_at),
    check (window_ends_at > starts_at),
    check (capacity >= rule_capacity),
    constraint slot_not_overbooked check (booked <= capacity)
);

-- Short-lived reservations while a citizen fills in the form; counted in slot.booked.
create table hold (
    id          uuid primary key default gen_random_uuid(),
    location_id bigint not null references location on delete cascade,
    starts_at   timestamptz not null,
    ends_at     timestamptz not null,
    client_key  text not null,
    expires_at  timestamptz not null,
    extended    boolean not null default false,
    created_at  timestamptz not null default now()
);
create index hold_expires_idx on hold (expires_at);
create unique index hold_one_per_client on hold (client_key);

create table appointment (
    id                  bigint generated always as identity primary key,
    code                text not null unique,
    location_id         bigint not null references location,
    starts_at           timestamptz not null,
    ends_at             timestamptz not null,
    status              text not null default 'booked' check (status in
                          ('pending', 'booked', 'cancelled', 'checked_in', 'completed', 'no_show', 'expired')),
    citizen_name        text,
    email               text,
    phone               text,
    language            text not null default 'de' check (language in ('de', 'en')),
    manage_token_hash   bytea not null,
    confirm_token_hash  bytea,
    pending_until       timestamptz,
    sequence            integer not null default 0,
    waitlist_entry_id   bigint,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    personal_data_erased_at timestamptz,
    check (ends_at > starts_at)
);
create index appointment_location_start_idx on appointment (location_id, starts_at);
create index appointment_pending_idx on appointment (pending_until) where status = 'pending';
create index appointment_erase_idx on appointment (ends_at) where personal_data_erased_at is null;

create table appointment_service (
    appointment_id bigint not null references appointment on delete cascade,
    service_id     bigint not null references service,
    position       smallint not null,
    quantity       smallint not null default 1 check (quantity between 1 and 5),
    primary key (appointment_id, service_id)
);

-- An Idempotency-Key replay returns the first answer (invariant 1).
create table idempotency_key (
    key          text primary key,
    request_hash bytea not null,
    status       integer not null,
    response     bytea not null,
    created_at   timestamptz not null default now()
);
create index idempotency_key_created_idx on idempotency_key (created_at);

create table desk (
    id          bigint generated always as identity primary key,
    location_id bigint not null references location on delete cascade,
    name        text not null,
    active      boolean not null default true,
    unique (location_id, name)
);

create table desk_service (
    desk_id    bigint not null references desk on delete cascade,
    service_id bigint not null references service on delete cascade,
    primary key (desk_id, service_id)
);

-- Daily counters behind display codes such as A042.
create table ticket_counter (
    location_id bigint not null references location on delete cascade,
    day         date not null,
    prefix      text not null,
    last_number integer not null default 0,
    primary key (location_id, day, prefix)
);

create table ticket (
    id              bigint generated always as identity primary key,
    public_id       text not null unique,
    location_id     bigint not null references location,
    service_id      bigint not null references service,
    appointment_id  bigint references appointment,
    day             date not null,
    display_code    text not null,
    status          text not null default 'waiting' check (status in
                      ('waiting', 'called', 'serving', 'done', 'no_show', 'cancelled')),
    priority_at     timestamptz not null,
    desk_id         bigint references desk,
    recalls         integer not null default 0,
    citizen_name    text,
    issued_at       timestamptz not null default now(),
    called_at       timestamptz,
    started_at      timestamptz,
    finished_at     timestamptz,
    personal_data_erased_at timestamptz,
    unique (location_id, day, display_code)
);
create index ticket_queue_idx on ticket (location_id, service_id, priority_at, id)
    where status = 'waiting';
-- Invariant 2: a desk holds at most one called or serving ticket at a time.
create unique index ticket_one_active_per_desk on ticket (desk_id)
    where status in ('called', 'serving');

create table waitlist_entry (
    id                bigint generated always as identity primary key,
    public_id         text not null unique,
    email             text,
    citizen_name      text,
    language          text not null default 'de' check (language in ('de', 'en')),
    service_ids       bigint[] not null,
    location_ids      bigint[] not null,
    earliest_day      date not null,
    latest_day        date not null,
    weekdays          smallint[] not null default '{1,2,3,4,5,6,7}',
    time_from         time,
    time_until        time,
    status            text not null default 'pending' check (status in
                        ('pending', 'active', 'offered', 'fulfilled', 'cancelled', 'expired')),
    manage_token_hash bytea not null,
    confirm_token_hash bytea,
    created_at        timestamptz not null default now(),
    personal_data_erased_at timestamptz,
    check (latest_day >= earliest_day)
);
create index waitlist_entry_active_idx on waitlist_entry (created_at) where status = 'active';

alter table appointment
    add constraint appointment_waitlist_entry_fk foreign key (waitlist_entry_id) references waitlist_entry;

-- Written in the same transaction as the change it reports (invariant 3).
create table outbox (
    id             bigint generated always as identity primary key,
    kind           text not null check (kind in ('confirmation_request', 'confirmation', 'reschedule',
                     'cancellation', 'reminder', 'waitlist_offer', 'waitlist_confirmation')),
    appointment_id bigint references appointment on delete cascade,
    waitlist_entry_id bigint references waitlist_entry on delete cascade,
    message_id     text not null unique,
    payload        jsonb not null default '{}',
    created_at     timestamptz not null default now(),
    not_before     timestamptz not null default now(),
    attempts       integer not null default 0,
    last_error     text,
    sent_at        timestamptz,
    check (appointment_id is not null or waitlist_entry_id is not null)
);
create index outbox_unsent_idx on outbox (not_before, id) where sent_at is null;

create table staff_user (
    id            bigint generated always as identity primary key,
    email         text not null unique,
    display_name  text not null default '',
    password_hash text,
    role          text not null check (role in ('admin', 'location_admin', 'desk')),
    active        boolean not null default true,
    failed_logins integer not null default 0,
    locked_until  timestamptz,
    created_at    timestamptz not null default now()
);

create table staff_location (
    staff_user_id bigint not null references staff_user on delete cascade,
    location_id   bigint not null references location on delete cascade,
    primary key (staff_user_id, location_id)
);

create table device (
    id          bigint generated always as identity primary key,
    location_id bigint not null references location on delete cascade,
    kind        text not null check (kind in ('kiosk', 'display')),
    name        text not null,
    token_hash  bytea not null unique,
    revoked_at  timestamptz,
    created_at  timestamptz not null default now()
);

-- Who did what to which object; never citizens' personal data.
create table audit_log (
    id          bigint generated always as identity primary key,
    at          timestamptz not null default now(),
    actor_kind  text not null check (actor_kind in ('staff', 'device', 'system')),
    actor_id    bigint,
    action      text not null,
    object_kind text not null,
    object_id   text,
    location_id bigint references location on delete set null,
    detail      jsonb not null default '{}'
);
create index audit_log_at_idx on audit_log (at);
