"""Commands that work over HTTP, as any API client would: they reach the server only through `versicolor.client`."""
