#!/usr/bin/env python3
"""Copies the small, licence-clean fixtures under testdata/ from shared/data.

Only val2017 images whose licence allows redistribution (ids 4-8: BY, BY-SA,
BY-ND, no known restriction, US Gov) are copied, unmodified. Re-running it
reproduces testdata/ exactly.
"""
import argparse
import json
import os
import shutil

REDISTRIBUTABLE_LICENCES = {4, 5, 6, 7, 8}


def write_exif_rotated_jpeg(path):
    """A 16x8 JPEG (dark left half, bright right half) whose EXIF orientation
    (6) asks viewers to rotate it: COCO's coordinates ignore that tag."""
    from PIL import Image
    image = Image.new("RGB", (16, 8), (20, 20, 20))
    image.paste((235, 235, 235), (8, 0, 16, 8))
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(path, quality=95, exif=exif.tobytes())


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", default="../shared/data")
    parser.add_argument("--out", default="testdata")
    args = parser.parse_args()
    coco = os.path.join(args.shared, "coco")
    out_coco = os.path.join(args.out, "coco")
    os.makedirs(os.path.join(out_coco, "val2017"), exist_ok=True)
    os.makedirs(os.path.join(out_coco, "annotations"), exist_ok=True)

    exact = json.load(open(os.path.join(coco, "annotations/person_keypoints_val2017_exact34.json")))
    keep = [im for im in exact["images"] if im["license"] in REDISTRIBUTABLE_LICENCES]
    keep_ids = {im["id"] for im in keep}
    for image in keep:
        shutil.copyfile(os.path.join(coco, "images/val2017", image["file_name"]),
                        os.path.join(out_coco, "val2017", image["file_name"]))
    subset = dict(exact)
    subset["images"] = keep
    subset["annotations"] = [a for a in exact["annotations"] if a["image_id"] in keep_ids]
    with open(os.path.join(out_coco, "annotations/person_keypoints_val2017_fixture.json"), "w") as f:
        json.dump(subset, f)
    shutil.copyfile(os.path.join(coco, "annotations/person_keypoints_val2017_local.json"),
                    os.path.join(out_coco, "annotations/person_keypoints_val2017_local.json"))

    os.makedirs(os.path.join(args.out, "results"), exist_ok=True)
    for name in ["movenet_multipose_lightning_val2017_260imgs_results.json",
                 "movenet_thunder_topdown_gtboxes_val2017_260imgs_results.json"]:
        shutil.copyfile(os.path.join(args.shared, "results", name),
                        os.path.join(args.out, "results", name))
    thunder = json.load(open(os.path.join(
        args.shared, "results/movenet_thunder_topdown_APH56dets_val2017_34imgs_results.json")))
    with open(os.path.join(args.out, "results/movenet_thunder_topdown_APH56dets_fixture_results.json"), "w") as f:
        json.dump([r for r in thunder if r["image_id"] in keep_ids], f)

    other = os.path.join(args.out, "other")
    os.makedirs(other, exist_ok=True)
    for name in ["crowdpose/test_crowdpose.json", "posetrack18/annotations/test_posetrack18_val.json",
                 "ochuman/test_ochuman.json"]:
        shutil.copyfile(os.path.join(args.shared, "other", name),
                        os.path.join(other, os.path.basename(name)))
    shutil.copyfile(os.path.join(args.shared, "other/LICENSE.mmpose-test-data"),
                    os.path.join(other, "LICENSE"))
    write_exif_rotated_jpeg(os.path.join(other, "exif_orientation6.jpg"))

    golden = os.path.join(args.out, "golden")
    if os.path.exists(golden):
        shutil.rmtree(golden)
    shutil.copytree(os.path.join(args.shared, "golden"), golden)
    print(f"{len(keep)} images, {len(subset['annotations'])} annotations")


if __name__ == "__main__":
    main()
