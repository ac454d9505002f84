package collect

// What the external tests (select_test.go, workloads_test.go: package
// collect_test, which also read through internal/decode) reach inside.
var (
	ReadWorkloads = readWorkloads
)
