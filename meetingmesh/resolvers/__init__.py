"""Root fields, the cross-provider merge, cursors and per-request context.

Resolvers take and return domain records; only ``meetingmesh/schema`` knows Strawberry.
"""
