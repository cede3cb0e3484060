// Package bench stands for the benchmark driver: exempt by the Exempt list,
// by its exact path (its sub-packages are not).
package bench
