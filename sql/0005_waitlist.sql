-- Waitlist and fair access: freed capacity is held back ("quarantined") from the public while
-- anyone waits at its location, offered to the waitlist by the worker, and released publicly
-- only after a cooldown at a random moment.

-- A unit's places are booked, quarantined or free: searches and bookings see only
-- capacity - booked - quarantined. quarantined_at is when the latest place entered the
-- quarantine (the lottery collects from then on; the cooldown counts from then);
-- public_at is the moment the worker drew for releasing them, null until drawn.
alter table slot add column quarantined integer not null default 0 check (quarantined >= 0);
alter table slot add column quarantined_at timestamptz;
alter table slot add column public_at timestamptz;
alter table slot add constraint slot_quarantine_fits check (booked + quarantined <= capacity);
create index slot_quarantined_idx on slot (location_id, starts_at) where quarantined > 0;

-- Entry tokens are HMACs like appointment tokens: only their hashes and the salt are kept.
alter table waitlist_entry add column token_salt bytea not null
    default gen_random_uuid()::text::bytea;
-- An unconfirmed entry lapses at confirm_until (double opt-in).
alter table waitlist_entry add column confirm_until timestamptz;
alter table waitlist_entry add check (email is null or email = lower(email));
alter table waitlist_entry add check (cardinality(service_ids) between 1 and 5);
alter table waitlist_entry add check (cardinality(location_ids) between 1 and 10);
alter table waitlist_entry add check (time_from is null or time_until is null or time_from < time_until);

-- One active request per verified address; unconfirmed ones are counted by address too.
create unique index waitlist_entry_one_active_per_email on waitlist_entry (email)
    where status in ('active', 'offered');
create index waitlist_entry_pending_email_idx on waitlist_entry (email) where status = 'pending';
create index waitlist_entry_locations_idx on waitlist_entry using gin (location_ids)
    where status = 'active';
create index waitlist_entry_pending_idx on waitlist_entry (confirm_until) where status = 'pending';

-- An entry gets at most one offer in its life: a declined or lapsed offer ends the entry.
create unique index appointment_one_offer_per_entry on appointment (waitlist_entry_id)
    where waitlist_entry_id is not null;
