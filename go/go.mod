module github.com/reflector-bgp/reflector/go

go 1.19
