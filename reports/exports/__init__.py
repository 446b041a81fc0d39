"""The export builder: any resource, filtered, chosen columns, any format, as a job."""
