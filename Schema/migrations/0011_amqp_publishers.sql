-- Broker accounts that may publish triggers, each mapped to the Keel principal it acts for. RabbitMQ
-- checks a message's `user-id` property against the account that published it, so a trigger carrying
-- one names its publisher; trigger-intake maps it here to the run's authenticated requester (an
-- account with no row here is the principal `amqp:<account>`). `keel publisher add` writes the rows.

CREATE TABLE amqp_publishers (
    broker_user text PRIMARY KEY CHECK (length(broker_user) BETWEEN 1 AND 128),
    principal   text NOT NULL CHECK (length(principal) BETWEEN 1 AND 128),
    vhost       text NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
