-- Each order's whole period, extensions included (retention works from its end).
CREATE VIEW order_periods AS
    SELECT o.id AS order_id, o.subject_id, o.starts_at,
           COALESCE((SELECT max(e.ends_at) FROM order_extensions e WHERE e.order_id = o.id),
                    o.ends_at) AS ends_at
    FROM monitoring_orders o;
