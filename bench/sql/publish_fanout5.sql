-- One publish to a topic with six queues and filters: five pass the attributes, one does not.
select count(*) from fastqueue.publish('bench-fanout', '{"order_id": 123456, "customer_id": "c-0042", "status": "created", "amount": 99.90, "currency": "EUR", "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}]}'::jsonb, '{"event": "created", "region": "eu-west-1"}'::jsonb);
