module reflector.invalid/reflector

go 1.19
