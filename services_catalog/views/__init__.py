"""Web pages of the services catalogue, one module per audience; each module lists its own routes."""
