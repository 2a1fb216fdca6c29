# scripts/samples.sh shows these lines of image_pipeline's output.
/^image_pipeline:/
/^skipped /
/^summary:/,/^$/
/^why the parallel run/
/^check: /
