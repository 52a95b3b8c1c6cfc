// Package s3 is the Lua `s3` module: buckets and objects on any S3 (AWS or
// compatible) through aws-sdk-go-v2, or on the embedded store when nothing
// is configured.
//
// The Go side (Client, Bucket and their methods) is plain Go that takes
// and returns Go values; lua.go is the thin glue. Every network call runs
// through host.Go, so a Lua task waiting on S3 never blocks the others,
// and nothing AWS-related is loaded before the first call that needs it.
package s3

import (
	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// The module: functions use the default client (the AWS way, or the
// embedded store); s3.client{...} makes others.
var moduleFuncs = map[string]lua.LGFunction{
	"client":        luaClient,
	"buckets":       func(L *lua.LState) int { return clientBuckets(L, defaultClient(L), 1) },
	"create_bucket": func(L *lua.LState) int { return clientCreate(L, defaultClient(L), 1) },
	"delete_bucket": func(L *lua.LState) int { return clientDelete(L, defaultClient(L), 1) },
	"bucket":        func(L *lua.LState) int { return clientBucket(L, defaultClient(L), 1) },
	"use":           luaUse,    // use(client) → the previous default client
	"server":        luaServer, // server{dir=, addr=}: a store of its own (tests, tools)
}

var clientMethods = map[string]lua.LGFunction{
	"buckets":       func(L *lua.LState) int { return clientBuckets(L, checkClient(L), 2) },
	"create_bucket": func(L *lua.LState) int { return clientCreate(L, checkClient(L), 2) },
	"delete_bucket": func(L *lua.LState) int { return clientDelete(L, checkClient(L), 2) },
	"bucket":        func(L *lua.LState) int { return clientBucket(L, checkClient(L), 2) },
	"close":         clientClose,
}

var bucketMethods = map[string]lua.LGFunction{
	"name":        bucketName,
	"put":         bucketPut,
	"put_file":    bucketPutFile,
	"upload":      bucketUpload,
	"get":         bucketGet,
	"get_file":    bucketGetFile,
	"open":        bucketOpen,
	"download":    bucketDownload,
	"stat":        bucketStat,
	"list":        bucketList,
	"delete":      bucketDelete,
	"delete_many": bucketDeleteMany,
	"copy":        bucketCopy,
	"split":       bucketSplit,
	"cat":         bucketCat,
}

var serverMethods = map[string]lua.LGFunction{
	"url":    serverURL,
	"client": serverClient,
	"close":  serverClose,
}

// Loader is require("s3").
func Loader(L *lua.LState) int {
	host.NewClass(L, serverClass, serverMethods)
	host.NewClass(L, clientClass, clientMethods)
	host.NewClass(L, bucketClass, bucketMethods)
	L.Push(host.Module(L, moduleFuncs))
	return 1
}

// Register makes require("s3") available.
func Register() { host.Register("s3", Loader) }
