module libguard/testprogs/go/inspect

go 1.19
