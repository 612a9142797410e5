"""The Edit v3 dialect (seed 003): Urls and Url Groups, snake_case, wrapped objects, cursor lists."""
