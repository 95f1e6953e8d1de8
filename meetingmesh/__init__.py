"""meetingmesh: one GraphQL API over every meeting provider a product uses."""

__version__ = "0.1.0"
