module RL2.Tests.Main

open Expecto
open TorchSharp

[<EntryPoint>]
let main argv =
    torch.set_num_threads 1
    runTestsInAssemblyWithCLIArgs [] argv
