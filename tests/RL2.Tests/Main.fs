module RL2.Tests.Main
open Expecto
[<Tests>]
let t = test "torch" { Expect.equal (RL2.Probe.hello ()) 4.0f "sum" }
[<EntryPoint>]
let main argv = runTestsInAssemblyWithCLIArgs [] argv
