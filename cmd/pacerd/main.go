// Command pacerd is the pacer node daemon. See docs/reference/pacerd.md.
package main

import (
	"os"

	"pacer/daemon"
)

func main() {
	os.Exit(daemon.Main(os.Args[1:], os.Stderr))
}
