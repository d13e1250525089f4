package main

import (
	"fmt"
	"io"

	"parley/internal/control"
)

// printSuspension reports what `parley user suspend|resume` did.
func printSuspension(stdout io.Writer, sub, addr string, resp control.Response) {
	if sub == "resume" {
		fmt.Fprintf(stdout, "resumed %s (its revoked API tokens stay revoked)\n", addr)
		return
	}
	fmt.Fprintf(stdout, "suspended %s: logins refused, %d sessions ended, %d API tokens revoked\n", addr, resp.Ended, resp.Revoked)
}
