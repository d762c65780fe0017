"""End to end over real HTTP against `make run`: the README's examples, fuzzing, `make load`, `make bench`."""
