"""The Edit v3 dialect: Urls and Url Groups, snake_case, wrapped objects, cursor lists."""
