"""The vendors shipped with the package: profiles/<key>.toml and specs/<dir>/openapi.yaml."""
