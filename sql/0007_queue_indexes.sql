-- Calling the next ticket runs under the location's queue lock, so its reads must not grow
-- with the queue: a desk serving several services found its next ticket by sorting every
-- waiting ticket of the day (bench: 1.4 ms at 4000 waiting, under the lock every caller
-- waits for), and the call-ahead check scanned every open ticket for the few with an email.

-- The head of the queue in call order; the desk's services filter the first few rows.
create index ticket_waiting_order_idx on ticket (location_id, day, priority_at, id)
    where status = 'waiting';
-- Only the tickets that asked to be told when their turn nears.
create index ticket_call_ahead_idx on ticket (location_id, day)
    where status = 'waiting' and email is not null;
