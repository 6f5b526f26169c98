/// What `rl2 bench` reports about a workload when several run in one process.
module RL2.Tests.BenchTests

open System.Runtime.InteropServices
open Expecto
open RL2
open RL2.Bench

/// Writes one byte of every page of a block, so that all of it is resident.
let private touch (block: nativeint) (bytes: int) =
    for offset in 0 .. 4096 .. bytes - 1 do
        Marshal.WriteByte(block, offset, 1uy)

[<Tests>]
let tests =
    // Alone, so that no other test's allocations move the resident set while it is measured.
    testSequenced <| testList "bench" [
        test "a workload's peak resident set is its own: a block freed before resetPeakRss no longer counts" {
            let mb = 256
            let block = Marshal.AllocHGlobal(nativeint (mb <<< 20))
            // Freed, a block this large goes back to the system.
            touch block (mb <<< 20)
            let withBlock = IterationBench.peakRssMb ()
            Marshal.FreeHGlobal block
            // As IterationBench.measure does: once Memory.configure has run (any training test before this one in
            // the process), malloc keeps freed heap until released.
            RL2.Memory.release ()
            IterationBench.resetPeakRss ()
            let after = IterationBench.peakRssMb ()
            Expect.isLessThan after (withBlock - 0.75 * float mb) "the peak after the reset leaves the freed block out"
            Expect.isGreaterThanOrEqual after (IterationBench.rssMb () - 16.0) "and is still at least the resident set now"
        }
        test "Memory.release returns the freed heap the allocator settings keep" {
            Memory.configure () |> ignore
            Memory.release ()
            let before = IterationBench.rssMb ()
            // Blocks under the mmap threshold come from the heap, which the settings keep once freed.
            let blocks = Array.init 200 (fun _ -> Marshal.AllocHGlobal(nativeint (1 <<< 20)))
            for b in blocks do
                touch b (1 <<< 20)
            for b in blocks do
                Marshal.FreeHGlobal b
            let kept = IterationBench.rssMb ()
            Memory.release ()
            let released = IterationBench.rssMb ()
            Expect.isGreaterThan kept (before + 150.0) "freed, the 200 MB stay resident"
            // On a thread other than the process's first, the blocks come from a thread arena, whose top
            // chunk (at most one 64 MB arena heap) malloc_trim leaves: CI once kept 56 MB of it.
            Expect.isLessThan released (kept - 100.0) "released, all but an arena's top chunk is gone"
        }
    ]
