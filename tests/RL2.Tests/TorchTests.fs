module RL2.Tests.TorchTests

open Expecto
open TorchSharp

[<Tests>]
let tests =
    testList "native libtorch" [
        test "libLibTorchSharp loads and a matmul runs" {
            use a = torch.tensor([| 1.0f; 2.0f; 3.0f; 4.0f |]).reshape(2L, 2L)
            use b = a.matmul a
            // [[1,2],[3,4]]² = [[7,10],[15,22]]
            Expect.sequenceEqual (b.data<float32>().ToArray()) [| 7.0f; 10.0f; 15.0f; 22.0f |] "matmul"
        }
        test "collections are blocking, so no TorchSharp Scalar is finalised inside a native call" {
            Expect.equal (string (System.AppContext.GetData "System.GC.Concurrent")) "false" "the test executable runs without background GC"
            RL2.Memory.configure () |> ignore
            Expect.equal System.Runtime.GCSettings.LatencyMode System.Runtime.GCLatencyMode.Batch "Memory.configure makes collections blocking"
        }
    ]
