"""Domain core of Urls, Url Groups and host authorisation."""
