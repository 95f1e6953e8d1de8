"""One adapter per provider, and the HTTP client they share.

Adapters own every provider quirk (auth header, paths, parameter formats, pagination
styles, error bodies) and return ``meetingmesh.domain`` records. They know nothing of
GraphQL.
"""
