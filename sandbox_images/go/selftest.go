// rlce's Go self-test program: Add for the assertion self-test, a stdin sum
// for the stdio one.
package main

import "fmt"

func Add(a, b int) int {
	return a + b
}

func main() {
	var a, b int
	fmt.Scan(&a, &b)
	fmt.Println(Add(a, b))
}
