-- Two more reasons a trigger is refused: a value PostgreSQL cannot store (U+0000, a number beyond
-- numeric), located by field and pointer, and AMQP properties that cannot be kept (a correlation id
-- holding U+0000).

ALTER TABLE trigger_rejections DROP CONSTRAINT trigger_rejections_reason_check;
ALTER TABLE trigger_rejections ADD CONSTRAINT trigger_rejections_reason_check
    CHECK (reason IN ('malformed_json', 'invalid_body', 'unknown_flow', 'no_live_release', 'unknown_version',
                      'invalid_input', 'unstorable_value', 'invalid_properties'));
