"""Reports written at the edge: plots and tables for planners, stored with each run."""
