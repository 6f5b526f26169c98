/// Learning curves as PNG (ScottPlot): mean meta-episode return against environment steps.
module RL2.Report.LearningCurve

open System.IO
open RL2.Train

type Series =
    { Label: string
      /// Positions on the x axis: environment steps, seconds, episodes…
      X: float[]
      MeanReturns: float[] }

let private runName (run: string) = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath run))

/// A run's mean return (last 1000 meta-episodes) from one read of its `metrics.jsonl`, against `x`.
let private curve (x: Metrics.Iteration -> float) (run: string) =
    let ms = Metrics.read run
    { Label = runName run
      X = ms |> Array.map x
      MeanReturns = ms |> Array.map _.MeanReturn }

/// A run's curve from its `metrics.jsonl`, labelled with the run directory's name.
let ofRun (run: string) = curve (fun m -> float m.EnvSteps) run

/// A run's curve against its cumulative training seconds (time to quality).
let ofRunInSeconds (run: string) = curve _.Seconds run

/// A run's periodic evaluations (`rl2 train --eval_every`): mean return on the held-out tasks against
/// environment steps; no points when the run had none.
let evaluationsOfRun (run: string) =
    let ms = Metrics.read run |> Array.filter _.EvalMean.IsSome
    { Label = runName run + " (held-out evaluation)"
      X = ms |> Array.map (fun m -> float m.EnvSteps)
      MeanReturns = ms |> Array.choose _.EvalMean }

/// Draws curves and horizontal reference levels (label, value) into a PNG with the given axis labels,
/// written under a temporary name and renamed so a viewer never sees half a file.
let plot (path: string) (title: string) (xLabel: string) (yLabel: string) (series: Series list) (levels: (string * float) list) =
    use chart = new ScottPlot.Plot()
    for s in series do
        let line = chart.Add.Scatter(s.X, s.MeanReturns)
        line.LegendText <- s.Label
        line.MarkerSize <- 0.0f
        line.LineWidth <- 2.0f
    for label, level in levels do
        let h = chart.Add.HorizontalLine level
        h.LegendText <- $"{label} ({level:F2})"
        h.LinePattern <- ScottPlot.LinePattern.Dashed
    chart.Title title
    chart.XLabel xLabel
    chart.YLabel yLabel
    chart.ShowLegend(ScottPlot.Alignment.LowerRight) |> ignore
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath path)) |> ignore
    let tmp = Path.ChangeExtension(path, ".tmp.png")
    chart.SavePng(tmp, 900, 540) |> ignore
    File.Move(tmp, path, true)

/// Learning curves: mean meta-episode return (last 1000) against environment steps.
let save (path: string) (title: string) (series: Series list) (levels: (string * float) list) =
    plot path title "environment steps" "mean meta-episode return (last 1000)" series levels

/// Learning curves against training seconds (series from `ofRunInSeconds`).
let saveInSeconds (path: string) (title: string) (series: Series list) (levels: (string * float) list) =
    plot path title "training seconds" "mean meta-episode return (last 1000)" series levels
