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
        // Sequenced: the hold and the counts are process-wide, and other tests allocate.
        testSequenced <| test "while two threads run libtorch calls, collections are held off and renewed only between them" {
            RL2.Memory.configure () |> ignore
            let gcs () = System.GC.CollectionCount 0
            let allocate mb = Array.init (mb * 16) (fun _ -> Array.zeroCreate<byte> 65536) |> Array.sumBy _.Length
            do
                use hold = new RL2.Memory.CollectionHold(true)
                let before = gcs ()
                // The runtime's no-collection region: no collection until its budget is allocated.
                Expect.equal System.Runtime.GCSettings.LatencyMode System.Runtime.GCLatencyMode.NoGCRegion "held"
                Expect.isGreaterThan (allocate 24) 0 "allocated"
                hold.Renew()
                Expect.equal (gcs ()) before "no collection at a renewal before half the 64 MB budget is used"
                Expect.isGreaterThan (allocate 36) 0 "allocated"
                Expect.equal (gcs ()) before "none during 60 MB of allocation"
                hold.Renew()
                Expect.isGreaterThan (gcs ()) before "a renewal past half the budget collects"
                Expect.equal System.Runtime.GCSettings.LatencyMode System.Runtime.GCLatencyMode.NoGCRegion "and holds again"
                do
                    use inner = new RL2.Memory.CollectionHold(true)
                    inner.Renew()
                Expect.equal System.Runtime.GCSettings.LatencyMode System.Runtime.GCLatencyMode.NoGCRegion "a nested hold leaves the outer one in force"
            Expect.equal System.Runtime.GCSettings.LatencyMode System.Runtime.GCLatencyMode.Batch "blocking collections again afterwards"
        }
    ]
