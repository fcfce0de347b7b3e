"""The check and the build in order (load, validate, link; catalog, render, write), each stage
wrapped by the memory of earlier runs, and their replay when no input changed."""
