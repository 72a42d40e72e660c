"""The workspace: its config, its secrets, the `App` that opens it for one command,
`publish init` and the files shipped with the package."""
