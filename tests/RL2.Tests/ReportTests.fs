/// What a run leaves to look at: TensorBoard events, learning-curve PNGs, `rl2 plot`.
module RL2.Tests.ReportTests

open System
open System.IO
open Expecto
open RL2.Train
open RL2.Report

let metric i ret : Metrics.Iteration =
    { Iteration = i
      EnvSteps = int64 i * 600L
      Seconds = float i
      MeanReturn = ret
      PolicyLoss = -0.1
      ValueLoss = 0.25
      Entropy = 1.5
      ClipFrac = 0.125
      AdvantageMean = Some 0.75
      LearningRate = 1e-3
      StepsPerSecond = 5000.0
      RolloutSeconds = 0.1
      UpdateSeconds = 0.9
      EvalMean = None
      EvalHalfWidth = None
      EvalSeconds = None }

/// The scalar events of a TensorBoard file (TFRecord framing: length, CRC, Event protobuf, CRC).
let readEvents (path: string) =
    use r = new BinaryReader(File.OpenRead path)
    [ while r.BaseStream.Position < r.BaseStream.Length do
          let length = r.ReadUInt64()
          r.ReadUInt32() |> ignore
          let e = Tensorboard.Event.Parser.ParseFrom(r.ReadBytes(int length))
          r.ReadUInt32() |> ignore
          if not (isNull e.Summary) then
              for v in e.Summary.Value do
                  yield v.Tag, e.Step, v.SimpleValue ]

/// Width and height from a PNG's IHDR chunk.
let pngSize (path: string) =
    let b = File.ReadAllBytes path
    Expect.sequenceEqual b[0..7] [| 0x89uy; 0x50uy; 0x4Euy; 0x47uy; 0x0Duy; 0x0Auy; 0x1Auy; 0x0Auy |] "PNG signature"
    let be (i: int) = (int b[i] <<< 24) ||| (int b[i + 1] <<< 16) ||| (int b[i + 2] <<< 8) ||| int b[i + 3]
    be 16, be 20

let fakeRun (returns: float list) =
    let dir = TrainingTests.tempDir ()
    returns |> List.iteri (fun i r -> Metrics.append dir (metric (i + 1) r))
    dir

[<Tests>]
let tests =
    testList "reports" [
        test "the TensorBoard event file reads back every scalar of every iteration" {
            let dir = TrainingTests.tempDir ()
            let write = TensorBoardLog.writer dir
            write (metric 1 5.1)
            write (metric 2 5.6)
            let file = Directory.GetFiles(TensorBoardLog.directory dir) |> Array.exactlyOne
            let events = readEvents file
            Expect.equal events.Length 16 "8 scalars × 2 iterations"
            Expect.contains events ("return/mean_meta_episode", 2L, 5.6f) "mean return at step 2"
            Expect.contains events ("policy/clipfrac", 1L, 0.125f) "clip fraction at step 1"
            Expect.contains events ("policy/advantage_mean", 2L, 0.75f) "advantage mean at step 2"
            Expect.contains events ("optimizer/learning_rate", 2L, 1e-3f) "learning rate"
        }

        test "a learning curve is a 900×540 PNG" {
            let run = fakeRun [ 5.0; 5.5; 6.1 ]
            let png = Path.Combine(run, "curve.png")
            LearningCurve.save png "test" [ LearningCurve.ofRun run ] [ "random player", 5.0 ]
            Expect.equal (pngSize png) (900, 540) "size"
            Expect.isFalse (File.Exists(Path.ChangeExtension(png, ".tmp.png"))) "no temporary left behind"
        }

        test "a run's curve follows its metrics" {
            let run = fakeRun [ 5.0; 5.5; 6.1 ]
            let s = LearningCurve.ofRun run
            Expect.equal s.X [| 600.0; 1200.0; 1800.0 |] "steps"
            Expect.equal s.MeanReturns [| 5.0; 5.5; 6.1 |] "returns"
            Expect.equal s.Label (Path.GetFileName run) "label"
        }

        test "the best published classic baseline of a setup, when the papers tabled it" {
            Expect.equal (RL2.Eval.Published.bestBaseline (RL2.Envs.Bandit.distribution 5) 10) (Some("UCB1", 6.7)) "bandit n=10, k=5"
            Expect.equal (RL2.Eval.Published.bestBaseline (RL2.Envs.Bandit.distribution 50) 100) (Some("Gittins", 85.2)) "bandit n=100, k=50"
            Expect.equal (RL2.Eval.Published.bestBaseline (RL2.Envs.TabularMdp.distribution 10 5 10) 100) (Some("BEB", 150.2)) "MDP n=10"
            Expect.equal (RL2.Eval.Published.bestBaseline (RL2.Envs.TabularMdp.distribution 10 5 10) 1000) (Some("OPSRL", 1973.9)) "MDP n=100"
            Expect.isNone (RL2.Eval.Published.bestBaseline (RL2.Envs.Bandit.distribution 3) 10) "k = 3 is not in the tables"
            Expect.isNone (RL2.Eval.Published.bestBaseline (RL2.Envs.TabularMdp.distribution 8 5 10) 100) "8 states is not"
        }

        test "rl2 plot overlays several runs in one PNG" {
            let a, b = fakeRun [ 5.0; 6.0 ], fakeRun [ 5.2; 5.9; 6.3 ]
            let out = Path.Combine(TrainingTests.tempDir (), "both.png")
            let code, _, err = CliTests.run $"plot {a} {b} --out {out} --title GRU-vs-SNAIL"
            Expect.equal code 0 err
            Expect.equal (pngSize out) (900, 540) "size"
        }

        test "a training run writes metrics, TensorBoard events and its learning curve" {
            let dir = TrainingTests.tempDir ()
            let code, _, err = CliTests.run $"{CliTests.small dir} --max_pol_iters 5"
            Expect.equal code 0 err
            let run = Path.Combine(dir, "run")
            Expect.equal (Metrics.read run).Length 5 "metrics lines"
            Expect.equal (pngSize (Path.Combine(run, "learning_curve.png"))) (900, 540) "curve"
            let events = readEvents (Directory.GetFiles(TensorBoardLog.directory run) |> Array.exactlyOne)
            Expect.equal (events |> List.filter (fun (t, _, _) -> t = "return/mean_meta_episode") |> List.map (fun (_, s, _) -> s)) [ 1L..5L ] "one return per iteration"
        }
    ]
