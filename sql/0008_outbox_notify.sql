-- Waking the outbox relay: a statement that writes outbox rows notifies the channel
-- `outbox` when, and only if, its transaction commits (PostgreSQL sends NOTIFY at commit and
-- folds repeats within one transaction into one). The relay still reads the rows from the
-- table; the notification only says "look now".

create function outbox_notify() returns trigger language plpgsql as $$
begin
    perform pg_notify('outbox', '');
    return null;
end
$$;

create trigger outbox_written after insert on outbox
    for each statement execute function outbox_notify();

-- An admin's retry of a failed message makes it due again at once.
create trigger outbox_retried after update of failed_at on outbox
    for each row when (old.failed_at is not null and new.failed_at is null)
    execute function outbox_notify();
