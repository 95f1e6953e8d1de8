"""State shared by every gateway process through Redis (``[redis] url``; off by default).

Behind a load balancer, each gateway process would otherwise keep its own upstream
cache, rate limits, in-flight calls, minted tokens, persisted queries and event
subscribers, so N processes would ask the providers N times as often, exceed their
published rate limits N-fold, and show a slot booked through one process as free in
the others. With ``[redis] url`` set they share, each in a module of its own:

- ``connection``: the process's Redis client, its channels, and the fallback to its own
  state (logged once, in ``/metrics`` and ``providers { sharing }``) while Redis is away;
- ``cache``: upstream answers, their invalidation after a booking or a webhook, and one
  fetch per identical GET across processes (a lock and the answer published);
- ``ratelimit``: each provider credential's published limit, for every process together;
- ``tokens``: minted HeyPeers JWTs and HubSpot access tokens, one renewal at a time;
- ``documents``: automatic persisted queries;
- ``broker`` and ``codec``: live events to every process's subscribers (pub/sub).

What stays per process: circuit breakers, provider health and its probes, the
webhook inbox and its replay memory, and the subscriptions themselves. The README's
"Operating in production" describes the scaling model.
"""
