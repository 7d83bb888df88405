// Command pcsctl manages a pacer cluster with pcs's command words. See
// docs/reference/pcsctl.md.
package main

import (
	"os"

	"pacer/pcs"
)

func main() {
	os.Exit(pcs.Main(os.Args[1:], os.Stdout, os.Stderr))
}
