"""The benchmark harness behind ``make bench``: figures to read, never assertions.

``benchmarks.run`` starts the simulators and the gateway as separate processes on
127.0.0.1, drives them from separate client processes and prints one table; see its
docstring for what each figure means.
"""
