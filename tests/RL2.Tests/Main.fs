module RL2.Tests.Main

open Expecto
open TorchSharp
open RL2.Dist

[<EntryPoint>]
let main argv =
    torch.set_num_threads 1
    match Mpi.worldSize () with
    | Some _ ->
        // Started by the MPI tests' mpiexec: every rank runs the rank tests, in the same order.
        MpiTests.world.Force() |> ignore
        let code = runTestsWithCLIArgs [ Sequenced ] argv MpiTests.ranks
        Mpi.finalize ()
        code
    | None -> runTestsInAssemblyWithCLIArgs [] argv
