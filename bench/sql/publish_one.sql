-- One publish of one message to a topic with one queue (one transaction, as one HTTP request).
select count(*) from fastqueue.publish('bench-one', '{"order_id": 123456, "customer_id": "c-0042", "status": "created", "amount": 99.90, "currency": "EUR", "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}]}'::jsonb, '{"event": "created", "region": "eu-west-1"}'::jsonb);
