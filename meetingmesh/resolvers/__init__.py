"""Root and nested fields, the cross-provider merge, cursors, pages and per-request context.

Resolvers take and return domain records; only ``meetingmesh/schema`` knows Strawberry.
"""
