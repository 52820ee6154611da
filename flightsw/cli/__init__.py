"""The ``flightsw`` command (``main``: run a simulation, a campaign, a cluster, the ground
console, export the dictionary) and its ``packet decode|encode`` verb (``packet``). The top
layer of the package: it may import every layer below it."""
