"""Finding the front: the steppable optimisers (STCH, NSGA-II), coarse-to-fine, memory plans and Pareto maths."""
