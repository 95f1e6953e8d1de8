"""Faithful local servers of each provider's REST API.

They are a product feature (demo, tests, benchmarks), implemented from the provider
documents in ``shared/provider-docs`` and sharing no code with the adapters in
``meetingmesh/providers``, so that an adapter bug cannot hide behind a matching
simulator bug.
"""
